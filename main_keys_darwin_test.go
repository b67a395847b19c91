package main

import "golang.org/x/sys/unix"

const getTermiosTest = unix.TIOCGETA
