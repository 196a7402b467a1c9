from bliss.cli import console

console()
