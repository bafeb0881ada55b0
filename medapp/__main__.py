from medapp.cli import main

raise SystemExit(main())
