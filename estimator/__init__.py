"""GPU memory, time and cost estimates for LLM fine-tuning and inference. Pure arithmetic: no torch."""
from estimator.estimate import Estimate, estimate
from estimator.fit import GpuFit, fit_table
from estimator.gpus import Gpu, list_gpus, load_gpu
from estimator.layers import LinearModule
from estimator.model_catalog import list_models, load_model_spec
from estimator.model_spec import ModelSpec
from estimator.request import EstimateRequest
from estimator.serving import ServingEstimate, ServingRequest, serving_estimate

__all__ = [
    "Estimate", "EstimateRequest", "Gpu", "GpuFit", "LinearModule", "ModelSpec", "ServingEstimate", "ServingRequest",
    "estimate", "fit_table", "list_gpus", "list_models", "load_gpu", "load_model_spec", "serving_estimate",
]
