"""IP telephony (issue «IP telephony»): call state machine, SIP adapter, IVR — not built yet."""
