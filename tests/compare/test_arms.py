"""The comparison's Generator runs the engine the generation settings name (lm.engines), with the
same prompts, context limit and answers."""
from compare.arms import Generator
from compare.spec import GenerationSettings


def test_the_generator_answers_with_the_engine_it_was_given(tiny_model_dir):
    from lm.openvino_runner import OpenVinoModel

    settings = GenerationSettings(max_new_tokens=6)
    questions = ["What is 3 plus 4?", "Hi"]
    reference = Generator(tiny_model_dir)
    fast = Generator(tiny_model_dir, engine=settings.engine)
    try:
        assert isinstance(fast.model, OpenVinoModel) and not isinstance(reference.model, OpenVinoModel)
        assert fast.context_limit() == reference.context_limit() == 512
        fast.warm_up(settings)
        assert ([(g.text, g.completion_tokens) for g in fast.generate(questions, settings)]
                == [(g.text, g.completion_tokens) for g in reference.generate(questions, settings)])
    finally:
        fast.close()
        reference.close()
