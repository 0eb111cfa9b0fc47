"""The defaults of the CLI, the Python API and the runtime, stated once (imports nothing)."""

TARGET = "reference"  # the ideal substrate: compile, train and check against it unless told otherwise
SEED = 0  # the compile seed (weight initialization) and the run seed (noise, data order, encoding)
CHIP_SEED = 0  # which emulated chip (its fixed-pattern imperfections) a program trains and runs on
