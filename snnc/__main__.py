from snnc.cli import main

main()
