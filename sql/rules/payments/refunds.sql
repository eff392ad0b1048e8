-- Payments: refunds, full or partial (refund_payment).

-- Refunds: refunded_total is the payment's refunded amount in all, as the provider reports it.
create or replace function private.refund_payment(prov public.payment_provider, payment_ref text, refunded_total integer)
returns jsonb
language plpgsql
volatile
security definer
set search_path = ''
as $$
declare
  now_ timestamptz := private.clock_now();
  pay public.payments;
  o public.orders;
  p public.session_packs;
  s public.sessions;
  total integer;
  canceled integer := 0;
begin
  if payment_ref is null then
    return jsonb_build_object('outcome', 'ignored', 'reason', 'refund names no payment');
  end if;
  perform private.lock_payment(prov, payment_ref);
  select * into pay from public.payments x where x.provider = prov and x.provider_payment_id = payment_ref;
  if not found then
    return jsonb_build_object('outcome', 'deferred', 'payment_ref', payment_ref);  -- kept for its payment
  end if;
  -- lock order: the order, then its pack, then the payment
  select * into o from public.orders x where x.id = pay.order_id for update;
  select * into p from public.session_packs x where x.order_id = o.id for update;
  select * into pay from public.payments x where x.id = pay.id for update;
  total := least(refunded_total, pay.amount_cents);
  if total <= pay.refunded_cents then
    return jsonb_build_object('outcome', 'duplicate', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;
  -- this refund on its own (the payment keeps only the running total): the reports date it
  insert into private.payment_refunds (payment_id, amount_cents, refunded_total_cents, currency, refunded_at)
  values (pay.id, total - pay.refunded_cents, total, pay.currency, now_);
  update public.payments
     set refunded_cents = total,
         status = case when total >= amount_cents then 'refunded' else 'partially_refunded' end::public.payment_status
   where id = pay.id
   returning * into pay;

  if pay.status = 'partially_refunded' then
    perform private.notify(array[o.student_id] || private.admin_ids(), 'refund_processed',
                           format('payment:%s:refund:%s', pay.id, total),
                           jsonb_build_object('order_id', o.id, 'refunded_cents', total, 'amount_cents', pay.amount_cents,
                                              'currency', pay.currency, 'full', false));
    return jsonb_build_object('outcome', 'partially_refunded', 'order_id', o.id, 'payment_ref', payment_ref);
  end if;

  -- Full refund: the pack ends now, its future sessions are canceled without giving credits
  -- back, and the seat is released unless another live pack holds it.
  if o.status = 'paid' then
    update public.orders set status = 'refunded' where id = o.id;
  end if;
  if p.id is not null and p.status <> 'refunded' then
    for s in
      select * from public.sessions x
       where x.pack_id = p.id and x.status = 'scheduled' and x.starts_at > now_
       order by x.starts_at
         for update
    loop
      update public.sessions
         set status = 'canceled', canceled_at = now_, cancel_reason = 'pack refunded'
       where id = s.id
       returning * into s;
      perform private.void_reminders(s.id);
      perform private.notify(array[s.student_id, s.mentor_id], 'session_canceled', format('session:%s:canceled', s.id),
                             private.session_payload(s) || jsonb_build_object('canceled_by', 'refund',
                                                                              'credit_restored', false),
                             null, s.id);
      insert into private.calendar_jobs (session_id, mentor_id, action) values (s.id, s.mentor_id, 'delete');
      canceled := canceled + 1;
    end loop;
    if p.remaining_sessions > 0 then
      insert into public.session_credit_ledger (pack_id, mentor_id, student_id, kind, delta, reason)
      values (p.id, p.mentor_id, p.student_id, 'pack_refunded', -p.remaining_sessions, 'payment refunded in full');
    end if;
    update public.session_packs set status = 'refunded', refunded_at = now_ where id = p.id;
    if not exists (select from public.session_packs x
                    where x.seat_reservation_id = p.seat_reservation_id and x.status = 'active') then
      update public.seat_reservations
         set status = 'released', released_at = now_, release_reason = 'refunded'
       where id = p.seat_reservation_id and status <> 'released';
      perform private.void_grace_warnings(x) from public.seat_reservations x where x.id = p.seat_reservation_id;
    end if;
  end if;
  perform private.notify(array[o.student_id] || private.admin_ids(), 'refund_processed',
                         format('payment:%s:refund:%s', pay.id, total),
                         jsonb_build_object('order_id', o.id, 'pack_id', p.id, 'refunded_cents', total,
                                            'amount_cents', pay.amount_cents, 'currency', pay.currency,
                                            'full', true, 'sessions_canceled', canceled),
                         null, null, p.id);
  return jsonb_build_object('outcome', 'refunded', 'order_id', o.id, 'pack_id', p.id, 'payment_ref', payment_ref,
                            'sessions_canceled', canceled);
end
$$;
comment on function private.refund_payment(public.payment_provider, text, integer) is
  'Records a refund (and the refund on its own in private.payment_refunds). Full: order and pack refunded, remaining credits to 0 through the ledger, future sessions canceled, seat released unless another live pack holds it. Partial: recorded, student and admins told, no credit change. Deferred when the payment is not known yet.';
revoke execute on function private.refund_payment(public.payment_provider, text, integer) from public, anon, authenticated;
