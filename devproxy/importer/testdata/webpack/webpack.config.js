const path = require('path');

module.exports = {
  mode: 'development',
  entry: './src/index.js',
  output: { path: path.resolve(__dirname, 'dist') },
  devServer: {
    port: 8081,
    proxy: [
      { context: ['/api', '/auth'], target: 'http://localhost:5000', changeOrigin: true },
      { context: ['/ws'], target: 'ws://localhost:5001', ws: true, changeOrigin: true },
    ],
  },
};
