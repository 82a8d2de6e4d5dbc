/*
 * Included first in every C and C++ blob source by compel's flags.
 *
 * Everything a blob defines is hidden: a static-PIE link then reaches it
 * PC-relative or through RELATIVE relocations, never through a GOT slot
 * bound to a symbol, which a blob has no loader to resolve.
 * (-fvisibility=hidden does not cover declarations of extern objects.)
 */
#pragma GCC visibility push(hidden)
