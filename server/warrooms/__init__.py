"""War rooms (作战室): live campaigns for solo, joint and remote teams of RMs."""
