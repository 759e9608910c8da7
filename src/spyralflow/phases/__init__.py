"""The default analysis phases, one subpackage each.

Kept empty on purpose: a phase's code hash covers the modules it imports, so importing every
phase here would make an edit of one phase rerun all of them.
"""
