"""Analytics and notifications: the nightly forecasts, reorder suggestions, who is told what, WhatsApp."""

from config.settings.environment import env

# Nightly forecasts and basket pairs, at this shop-time hour:minute (reports/tasks.py).
ANALYTICS_HOUR = env.int("ANALYTICS_HOUR", default=1)
ANALYTICS_MINUTE = env.int("ANALYTICS_MINUTE", default=30)
# Reorder suggestions cover the supplier's lead time plus this many days of expected sales.
REORDER_LEAD_DAYS = env.int("REORDER_LEAD_DAYS", default=7)
REORDER_COVER_DAYS = env.int("REORDER_COVER_DAYS", default=14)
# A cash session closed with an over/short of at least this many KES notifies managers and owners.
NOTIFY_CASH_DIFFERENCE_KES = env.int("NOTIFY_CASH_DIFFERENCE_KES", default=500)
# The owners' daily summary goes out at this shop-time hour:minute (closing time).
DAILY_SUMMARY_HOUR = env.int("DAILY_SUMMARY_HOUR", default=21)
DAILY_SUMMARY_MINUTE = env.int("DAILY_SUMMARY_MINUTE", default=0)
# WhatsApp Business Cloud API (Meta). Off unless both the token and the phone number id are set.
WHATSAPP_TOKEN = env.str("WHATSAPP_TOKEN", default="")
WHATSAPP_PHONE_NUMBER_ID = env.str("WHATSAPP_PHONE_NUMBER_ID", default="")
WHATSAPP_API_VERSION = env.str("WHATSAPP_API_VERSION", default="v21.0")
WHATSAPP_API_BASE = env.str("WHATSAPP_API_BASE", default="https://graph.facebook.com").rstrip("/")
# Messages a business starts need an approved template with one body parameter; empty = plain text
# (only delivered inside the 24-hour window after the person last wrote to the shop's number).
WHATSAPP_TEMPLATE = env.str("WHATSAPP_TEMPLATE", default="")
WHATSAPP_TEMPLATE_LANGUAGE = env.str("WHATSAPP_TEMPLATE_LANGUAGE", default="en")
WHATSAPP_TIMEOUT = env.float("WHATSAPP_TIMEOUT", default=10.0)

# The notification bell's unread count is cached per person for this long (cleared on every write).
NOTIFICATION_BADGE_CACHE_SECONDS = env.int("NOTIFICATION_BADGE_CACHE_SECONDS", default=300)
