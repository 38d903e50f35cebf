import { runCli } from "./run.js";

// `pnpm fly <command>` runs from the workspace root, where `.env` lives.
process.exitCode = await runCli(process.argv.slice(2), { cwd: process.cwd(), env: process.env });
