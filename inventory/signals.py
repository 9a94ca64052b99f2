"""Signals other apps listen to. Sent by inventory's tasks, never used for inventory's own rules.

`stock_alert_raised(sender=StockAlert, alert_id=int)`: a low / out-of-stock alert was opened (or a
low one ran out) and people should be told. The reports app adds e-mail / WhatsApp receivers.
"""

from django.dispatch import Signal

stock_alert_raised = Signal()
