"""The counter's hardware: the branch's ESC/POS receipt printer and the cash drawer wired to it."""
