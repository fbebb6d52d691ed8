import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const LINUX_LIB_DIRS = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu', '/usr/local/lib'];

/**
 * Whether the Vulkan loader WebGPU (Dawn) needs can be found, checked quietly: on Linux in
 * LD_LIBRARY_PATH, the dynamic linker's cache and the usual folders; on Windows in System32.
 * Dawn's own attempt prints a native warning with a C++ source location to the user's terminal.
 */
export function vulkanLoaderPresent(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (platform === 'win32') return existsSync(join(env.SystemRoot ?? 'C:\\Windows', 'System32', 'vulkan-1.dll'));
  if (platform !== 'linux') return true;
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LINUX_LIB_DIRS];
  if (dirs.some((dir) => existsSync(join(dir, 'libvulkan.so.1')))) return true;
  try {
    return readFileSync('/etc/ld.so.cache').includes('libvulkan.so.1');
  } catch {
    return false;
  }
}
