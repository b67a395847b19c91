import { Component } from '@angular/core';
import { Routes } from '@angular/router';
import { Label } from './label';
import { Ready } from './ready';

@Component({
  selector: 'app-home',
  imports: [Label, Ready],
  template: '<app-label /><app-ready />',
})
export class Home {}

// A route the tests open directly, as a bookmarked deep link.
@Component({
  selector: 'app-deep-link',
  imports: [Ready],
  template: '<h1>deep link</h1><app-ready />',
})
export class DeepLink {}

export const routes: Routes = [
  { path: '', component: Home },
  { path: 'deep/link', component: DeepLink },
];
