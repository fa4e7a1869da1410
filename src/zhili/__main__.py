from zhili.cli import main

main()
