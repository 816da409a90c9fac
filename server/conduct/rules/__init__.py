"""The conduct rules (行为监控规则). Each is small and named: it measures one behaviour per RM from the
bank's own records (vectorised over every RM at once), says in Chinese what it saw, and lists the
records behind it. Whether a reading is unusual is decided in server/conduct/engine.py against the
RM's peer group (same grade and branch type) with robust statistics, plus the rule's absolute floor
(`min`), so a big book is not flagged for being big.

Every number below is a default an admin can override per rule (server/conduct/rule_settings.py)."""
