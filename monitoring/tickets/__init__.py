"""Support tickets: who sees which (access), their numbers (numbering), when they are due (sla) and
every change to them (services). The models are monitoring.models.Ticket and its thread."""
