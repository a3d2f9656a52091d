"""Alerts for the staff on call: rules that find what is failing (``rules``), incidents opened,
reminded of and resolved from them by the minute evaluator (``incidents``), the messages it writes
and delivers (``outbox``) and each staff member's choice of alerts and channels (``preferences``)."""
