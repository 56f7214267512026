"""`ui.document_view.show_document`: a report.Document on a page, each block kind as a person reads
it; tables keep typed values and show the other renderers' printed cells."""
from streamlit.testing.v1 import AppTest


def _page():
    from report import Bullets, Chart, Column, Commands, Document, Paragraph, Section, Table
    from report.figures import figure_bytes, pyplot
    from ui.document_view import show_document

    def bars(fmt: str) -> bytes:
        fig, ax = pyplot().subplots(figsize=(2, 1.5), dpi=60)
        ax.bar(["a", "b"], [1, 2])
        return figure_bytes(fig, fmt)

    show_document(Document("not shown: the page has its own heading", [
        Section("Cost at A100 ($2.00/h)", [
            Paragraph("Recommendation: LoRA.", "headline"),
            Paragraph("Costs $0.28 per 1k queries (plus $2.02 once) on *this* run.", "evidence"),
            Paragraph("How to read it.", "note"),
            Paragraph("A body line."),
            Bullets(["one_two", "three"]),
        ]),
        Section("Inside", [
            Table([Column("arm"), Column("score", "{:.3f}"), Column("questions")],
                  [["Base + RAG", 0.5, 14], ["Fine-tuned", None, None]]),
            Commands(["ftadvisor tune --model m"]),
            Chart("Bars", bars, caption="Two bars."),
        ], level=3),
    ]), "doc")


def test_every_block_kind_as_a_person_reads_it():
    from streamlit import dataframe_util

    at = AppTest.from_function(_page, default_timeout=30).run()
    assert not at.exception
    assert [s.value for s in at.subheader] == ["Cost at A100 (\\$2.00/h)"]
    assert [i.value for i in at.info] == ["Recommendation: LoRA.",
                                          "Costs \\$0.28 per 1k queries (plus \\$2.02 once) on \\*this\\* run."]
    assert [c.value for c in at.caption] == ["How to read it."]
    assert [m.value for m in at.markdown] == ["A body line.", "- one\\_two\n- three", "**Inside**"]
    assert at.code[0].value == "ftadvisor tune --model m" and at.code[0].language == "bash"
    images = at.get("image")
    assert len(images) == 1 and images[0].proto.imgs[0].caption == "Two bars."  # the chart, drawn as PNG
    frame = at.dataframe[0]
    table = frame.value
    assert table.index.name == "arm" and list(table.index) == ["Base + RAG", "Fine-tuned"]
    assert table["score"].tolist()[0] == 0.5 and table["questions"].tolist()[0] == 14  # typed: sorts as numbers
    shown = dataframe_util.convert_arrow_bytes_to_pandas_df(frame.proto.arrow_data.styler.display_values)
    assert shown.values.tolist() == [["0.500", "14"], ["-", "-"]] and frame.proto.placeholder == "-"
