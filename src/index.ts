/**
 * `trove`: the SDK (`trove/client`) and the server (`trove/server`) together.
 * Importing this loads the server's dependencies; a program that only pushes
 * and pulls should import `trove/client`.
 */

export * from './client/index.js';
export * from './server/index.js';
