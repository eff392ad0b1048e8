"""The dashboards: a Streamlit app (`streamlit run dashboards/app.py`) where students, mentors and
admins do their work. Every read goes through the gateway with the signed-in person's JWT (RLS
decides what comes back), every change through an RPC or a column the person may write; the app
holds no service-role key and decides no rule. Stands alone: its settings are its own
(dashboards/settings.py), so it can be pointed at a hosted Supabase project."""
