export const label = 'version 1';
