-- The auth shim's helpers (auth.uid(), auth.role(), auth.email(), auth.jwt()) read the JWT
-- claims PostgREST puts in request.jwt.claims, as Supabase's do, and the API roles may call them.
--
-- Ids used below:
--   ana   cccccccc-0000-0000-0000-000000000001   bo  cccccccc-0000-0000-0000-000000000002
--         (claims only: no auth user is created here)
begin;
set search_path = public, extensions;
select plan(12);

-- === auth helpers read request.jwt.claims ===
select set_config('request.jwt.claims', '', true);
select is(auth.uid(), null, 'no claims: auth.uid() is null');
select is(auth.role(), null, 'no claims: auth.role() is null');
select is(auth.jwt(), null, 'no claims: auth.jwt() is null');

select set_config('request.jwt.claims',
  '{"sub":"cccccccc-0000-0000-0000-000000000001","role":"authenticated","email":"ana@example.test","aal":"aal1"}', true);
select is(auth.uid(), 'cccccccc-0000-0000-0000-000000000001'::uuid, 'auth.uid() is the sub claim');
select is(auth.role(), 'authenticated', 'auth.role() is the role claim');
select is(auth.email(), 'ana@example.test', 'auth.email() is the email claim');
select is(auth.jwt(),
  '{"sub":"cccccccc-0000-0000-0000-000000000001","role":"authenticated","email":"ana@example.test","aal":"aal1"}'::jsonb,
  'auth.jwt() is the whole claims object');
select is(auth.jwt() ->> 'aal', 'aal1', 'auth.jwt() carries the other claims');

select set_config('request.jwt.claim.sub', 'cccccccc-0000-0000-0000-000000000002', true);
select is(auth.uid(), 'cccccccc-0000-0000-0000-000000000002'::uuid,
  'the legacy request.jwt.claim.sub setting wins over request.jwt.claims (as in Supabase)');
select set_config('request.jwt.claim.sub', '', true);

-- === authenticated and anon ===
set local role authenticated;
select is(auth.uid(), 'cccccccc-0000-0000-0000-000000000001'::uuid, 'authenticated may call auth.uid()');
select tests.authenticate_as_anon();
select is(auth.role(), 'anon', 'anon may call auth.role()');
select is(auth.uid(), null, 'an anon token has no auth.uid()');
select tests.clear_authentication();

select * from finish();
rollback;
