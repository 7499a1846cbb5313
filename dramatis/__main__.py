from dramatis.cli import main

main()
