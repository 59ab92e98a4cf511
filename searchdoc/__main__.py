"""Allow ``python -m searchdoc``."""

from searchdoc.cli import main

if __name__ == "__main__":
    main()
