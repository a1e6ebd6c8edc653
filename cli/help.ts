// The help text every tandem verb ends with: its examples, each a command line as a user types it,
// with what it does (after `  # ` in `lines`) on the line above.
import type { Command } from 'commander';

export function examples(command: Command, lines: string[]): Command {
  const text = lines.map((l) => {
    const [cmd, note] = l.split('  # ');
    return `${note === undefined ? '' : `  # ${note}\n`}  $ ${cmd!.trimEnd()}`;
  });
  return command.addHelpText('after', `\nExamples:\n${text.join('\n')}`);
}
