"""rag_baseline"""
