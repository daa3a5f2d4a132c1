from starviz.cli import main

raise SystemExit(main())
