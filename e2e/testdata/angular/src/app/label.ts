import { Component } from '@angular/core';

// The browser tests edit label.html and expect ng serve to swap the
// template in place.
@Component({
  selector: 'app-label',
  templateUrl: './label.html',
})
export class Label {}
