"""Conduct oversight (行为监控): named rules over the bank's own records, compared with each RM's
peer group, a combined risk score, cases and the departing-RM check."""
