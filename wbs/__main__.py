from wbs.cli import main

main()
