#!/usr/bin/env python
"""Django's command-line utility for AsiriaPOS."""

import sys


def main() -> None:
    from config import set_default_settings_module

    set_default_settings_module()
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
