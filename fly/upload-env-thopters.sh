#!/bin/sh
exec "$(dirname "$0")/cli.sh" upload-env-thopters "$@"
