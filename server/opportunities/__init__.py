"""The opportunity pool (商机池), one module per concern: `policy` (the pool's rules), `access` (who
may see and manage what), `cards` (pool cards, detail, my lists), `feed` (the live stream and its
rooms), `history` (transitions and notices), `lifecycle` (create, share, work, close), `claims`
(claiming and the customer grant), `benefits` (the ledger split and statements), `desk` (the team
lead's reassign and transfer), `recycling` (the scheduled sweep), `ranking` (each RM's feed by fit),
`imports` (CSV/XLSX), `race` (the settled-race record) and `routes`."""
