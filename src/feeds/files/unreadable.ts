/** The `unreadable_file` errors of bar files: one sentence that names the file. */
import { errorMessage, TasaError } from '../../errors.ts';

/** `Bar file <path> <what>.` */
export function unreadableFile(path: string, what: string, hint?: string): TasaError {
  return new TasaError('unreadable_file', `Bar file ${path} ${what}.`, hint === undefined ? { input: path } : { input: path, hint });
}

/** Maps a Node error from opening or stat-ing the file. */
export function openFailure(path: string, err: unknown): TasaError {
  switch ((err as NodeJS.ErrnoException | null)?.code) {
    case 'ENOENT':
      return unreadableFile(path, 'does not exist', 'Check the path.');
    case 'EISDIR':
      return unreadableFile(path, 'is a directory, not a file', 'Give the path of a .csv, .csv.gz or .json file.');
    case 'EACCES':
    case 'EPERM':
      return unreadableFile(path, 'cannot be read: permission denied', 'Check the file permissions.');
    default:
      return unreadableFile(path, `cannot be opened (${errorMessage(err)})`);
  }
}
