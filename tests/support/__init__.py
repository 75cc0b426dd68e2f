"""Test support shared by every kind of test and by the benchmarks: the central service
and PostgreSQL run for real, the fake hardware (printers, webcam), a fault-injecting
proxy, the Kivy driver and the citizen's steps on the real window."""
