"""The `anshin` command's exit codes: one meaning each, for scripts (the README lists them)."""

OK = 0
FAILED = 1  # an error, said in one line on stderr: nothing or only part was done
USAGE = 2  # argparse's: the command line itself was wrong
REJECTED = 3  # the command ran, but some of the records it was given were refused
