#!/bin/sh
exec "$(dirname "$0")/cli.sh" destroy-gc "$@"
