from sync.server import main

main()
