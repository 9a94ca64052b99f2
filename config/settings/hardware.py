"""The counter's hardware: network receipt printers and the cash drawer behind them (docs/hardware.md).

Each branch's printer (address, port, paper width) is a record set in the admin; these are the
limits every printer shares.
"""

from config.settings.environment import env

# Seconds to wait for a printer to connect and answer before the job fails with a message and a retry.
RECEIPT_PRINTER_TIMEOUT = env.float("RECEIPT_PRINTER_TIMEOUT", default=5.0)
# Ask the printer for its status (DLE EOT 1) before each job; turn off only for a printer that
# never answers it (some very cheap models), which then cannot report "offline".
RECEIPT_PRINTER_CHECK_STATUS = env.bool("RECEIPT_PRINTER_CHECK_STATUS", default=True)
