"""hello: greets and prints its arguments, one a line; its exit status is the number of arguments."""

from kcc.lang import *

from user.lib import rt as _rt  # noqa: F401  _start and __kcc_panic
from user.lib import tty


@export("main")
def main(argc: usize, argv: usize) -> usize:
    """Print "hello, world" and each argument after argv[0]; return how many arguments there were."""
    args = cast(Ptr[usize], argv)
    tty.puts("hello, world\n")
    for i in range(usize(1), argc):
        tty.printf("argv[%u] = %s\n", i, args[i])
    return argc - 1
