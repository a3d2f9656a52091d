"""The audit trail: who did what, when, from where, and what it was before.

Every app writes it (``audit.record``), so it sits at the bottom of the layers, above ``lib`` only;
its pages live at the top, in monitoring.
"""
