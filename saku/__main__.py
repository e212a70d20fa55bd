from saku.cli import main

main()
