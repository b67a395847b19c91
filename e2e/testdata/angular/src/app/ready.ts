import { Location } from '@angular/common';
import { Component, afterNextRender, inject } from '@angular/core';

// Ready, on each routed page, shows the path the router matched and marks
// the page as started, which is when the browser tests begin.
@Component({
  selector: 'app-ready',
  template: '<p>path: <code id="path">{{ path }}</code></p>',
})
export class Ready {
  protected readonly path = inject(Location).path() || '/';

  constructor() {
    afterNextRender(() => {
      document.body.dataset['ready'] = 'true';
    });
  }
}
