"""Secure devices behind one small interface: commands in, replies and state snapshots out."""
