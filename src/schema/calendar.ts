import { calendarFeedSecret, enableCalendarFeed, feedUrl, revokeCalendarFeed } from '../calendar/calendar-feed.js';
import type { ViewerContext } from '../context.js';
import { builder } from './builder.js';

/** Where clients reach this server: behind a trusted proxy, as the proxy says (TLS ends there). */
function originOf(context: ViewerContext): string {
  const url = new URL(context.request.url);
  if (context.services.trustProxy) {
    const proto = context.request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim();
    const host = context.request.headers.get('x-forwarded-host')?.split(',')[0]?.trim();
    if (proto === 'https' || proto === 'http') url.protocol = `${proto}:`;
    if (host && /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(host)) {
      const [name, port = ''] = host.split(':');
      url.hostname = name!;
      url.port = port;
    }
  }
  return url.origin;
}

builder.queryField('calendarFeedUrl', (t) =>
  t.withAuth({ loggedIn: true }).string({
    nullable: true,
    description: "The secret address of the viewer's calendar feed (iCalendar: open dated tasks), or null when it is not enabled.",
    resolve: async (_root, _args, context) => {
      const secret = await calendarFeedSecret(context as ViewerContext);
      return secret ? feedUrl(originOf(context as ViewerContext), secret) : null;
    },
  }),
);

builder.mutationFields((t) => ({
  enableCalendarFeed: t.withAuth({ loggedIn: true }).string({
    description: "Turns on the viewer's calendar feed and answers its secret address (the same one until it is revoked). Subscribe to it in Google Calendar or Apple Calendar.",
    resolve: async (_root, _args, context) => feedUrl(originOf(context as ViewerContext), await enableCalendarFeed(context as ViewerContext)),
  }),
  revokeCalendarFeed: t.withAuth({ loggedIn: true }).boolean({
    description: 'Turns the calendar feed off: its address stops working at once. True when there was one.',
    resolve: (_root, _args, context) => revokeCalendarFeed(context as ViewerContext),
  }),
}));
