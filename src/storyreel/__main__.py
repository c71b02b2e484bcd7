from storyreel.cli import main

main()
