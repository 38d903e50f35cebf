#!/bin/sh
exec "$(dirname "$0")/cli.sh" recreate-hub "$@"
