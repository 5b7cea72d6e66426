"""IFEval, written here: its 25 instruction checks with strict and loose verdicts, as the reference defines them."""
